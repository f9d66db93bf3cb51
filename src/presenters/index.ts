// Presenters choose the fields a response shows (CLI --json and the API share them). Secrets, password
// hashes and tokens have no field here, so they cannot leak through a response.
export { presentApproval, presentDecision } from './approvals.js';
export { auditCsv, csvField, presentAudit } from './audit.js';
export { presentDevice } from './devices.js';
export { presentDeviceGroup, presentUserGroup } from './groups.js';
export { presentAccessRule, presentWorkflow } from './rules.js';
export { presentSession } from './sessions.js';
export { presentToken } from './tokens.js';
export { presentMe, presentUser } from './users.js';
export { presentEnrolment } from './second-factor.js';
export { presentRdpTicket, presentRdpWaiting, rdpFilename } from './rdp.js';
export { presentTarget, presentWay } from './connect.js';
export { approverManagerText, NOBODY_NAMED, outcomeText, peopleLine, personById, personName } from './people.js';
