// Every migration, in order. Each runs on SQLite and PostgreSQL.
import type { Migration } from 'kysely';
import { migration001 } from './001_initial.js';
import { migration002 } from './002_ssh.js';
import { migration003 } from './003_mail.js';
import { migration004 } from './004_api.js';
import { migration005 } from './005_rdp.js';
import { migration006 } from './006_audit_chain.js';
import { migration007 } from './007_http.js';
import { migration008 } from './008_nodes.js';
import { migration010 } from './010_escalate_at.js';
import { migration011 } from './011_recordings.js';
import { migration009 } from './009_directory.js';
import { migration014 } from './014_mail_once.js';
import { migration012 } from './012_login_attempts.js';
import { migration013 } from './013_second_factor_proof.js';
import { migration015 } from './015_sso.js';
import { migration016 } from './016_ssh_sso.js';
import { migration017 } from './017_passkeys.js';
import { migration018 } from './018_webhooks.js';
import { migration020 } from './020_databases.js';

export function allMigrations(dialect: 'sqlite' | 'postgres'): Record<string, Migration> {
  return {
    '001_initial': migration001(dialect),
    '002_ssh': migration002(dialect),
    '003_mail': migration003(dialect),
    '004_api': migration004(dialect),
    '005_rdp': migration005(dialect),
    '006_audit_chain': migration006(dialect),
    '007_http': migration007(dialect),
    '008_nodes': migration008(dialect),
    '009_directory': migration009(dialect),
    '010_escalate_at': migration010(dialect),
    '011_recordings': migration011(dialect),
    '012_login_attempts': migration012(dialect),
    '013_second_factor_proof': migration013(dialect),
    '014_mail_once': migration014(dialect),
    '015_sso': migration015(dialect),
    '016_ssh_sso': migration016(dialect),
    '017_passkeys': migration017(dialect),
    '018_webhooks': migration018(dialect),
    '020_databases': migration020(dialect),
  };
}
