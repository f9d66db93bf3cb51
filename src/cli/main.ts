// The gatehouse command. Every command takes --json; errors exit non-zero with a clear message.
import { Command, CommanderError } from 'commander';
import { registerApprovals } from './commands/approvals.js';
import { registerDemo } from './commands/demo.js';
import { registerDirectory } from './commands/directory.js';
import { registerDirectorySync } from './commands/directory-sync.js';
import { registerRdp } from './commands/rdp.js';
import { registerReports } from './commands/reports.js';
import { registerSshSso } from './commands/ssh-sso.js';
import { registerSystem } from './commands/system.js';
import { registerSso } from './commands/sso.js';
import { registerWebhooks } from './commands/webhook.js';
import { registerChat } from './commands/chat.js';

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: a privileged-access gateway that holds a connection until the right manager approves it')
    .option('--json', 'machine-readable output')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerSystem(program);
  registerDirectory(program);
  registerDirectorySync(program);
  registerSso(program);
  registerSshSso(program);
  registerApprovals(program);
  registerRdp(program);
  registerReports(program);
  registerWebhooks(program);
  registerChat(program);
  registerDemo(program);
  return program;
}

export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(0);
      process.exit(2);
    }
    throw err;
  }
}
