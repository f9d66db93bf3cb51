// An in-memory, read-only picture of all policy, indexed for decide(). Built once per policy version.
import type { AccessRule, Account, Device, DeviceGroup, User, UserGroup, Workflow } from '../types.js';

export interface PolicyData {
  users: User[];
  userGroups: UserGroup[];
  deviceGroups: DeviceGroup[];
  devices: Device[];
  accounts: Account[];
  accessRules: AccessRule[];
  workflows: Workflow[];
}

export class PolicySnapshot {
  readonly usersById = new Map<number, User>();
  readonly usersByName = new Map<string, User>();
  readonly userGroupsById = new Map<number, UserGroup>();
  readonly userGroupsByName = new Map<string, UserGroup>();
  readonly deviceGroupsById = new Map<number, DeviceGroup>();
  readonly devicesById = new Map<number, Device>();
  readonly devicesByName = new Map<string, Device>();
  /** user id -> ids of the user groups they belong to, ascending. */
  readonly groupsOfUser = new Map<number, number[]>();
  /** device id -> its accounts. */
  readonly accountsOfDevice = new Map<number, Account[]>();
  /** `${userGroupId}:${deviceGroupId}` -> rule */
  readonly rules = new Map<string, AccessRule>();
  /** `${userGroupId}:${deviceGroupId}` -> workflow */
  readonly workflows = new Map<string, Workflow>();
  readonly adminIds: number[] = [];

  constructor(
    readonly data: PolicyData,
    readonly version: number,
  ) {
    for (const u of data.users) {
      this.usersById.set(u.id, u);
      this.usersByName.set(u.username, u);
      if (u.isAdmin && !u.disabled) this.adminIds.push(u.id);
    }
    for (const g of data.userGroups) {
      this.userGroupsById.set(g.id, g);
      this.userGroupsByName.set(g.name, g);
      for (const m of g.memberIds) {
        const list = this.groupsOfUser.get(m) ?? [];
        list.push(g.id);
        this.groupsOfUser.set(m, list);
      }
    }
    for (const list of this.groupsOfUser.values()) list.sort((a, b) => a - b);
    for (const g of data.deviceGroups) this.deviceGroupsById.set(g.id, g);
    for (const d of data.devices) {
      this.devicesById.set(d.id, d);
      this.devicesByName.set(d.name, d);
    }
    for (const a of data.accounts) {
      const list = this.accountsOfDevice.get(a.deviceId) ?? [];
      list.push(a);
      this.accountsOfDevice.set(a.deviceId, list);
    }
    for (const r of data.accessRules) this.rules.set(`${r.userGroupId}:${r.deviceGroupId}`, r);
    for (const w of data.workflows) this.workflows.set(`${w.userGroupId}:${w.deviceGroupId}`, w);
  }

  static empty(): PolicySnapshot {
    return new PolicySnapshot(
      { users: [], userGroups: [], deviceGroups: [], devices: [], accounts: [], accessRules: [], workflows: [] },
      0,
    );
  }

  userName(id: number): string {
    return this.usersById.get(id)?.username ?? `#${id}`;
  }
}
