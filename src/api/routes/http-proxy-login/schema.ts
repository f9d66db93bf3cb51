// The HTTP proxy's sign-in hand-off: the device host asking, and where to send the browser back to.
export const HandOffQuery = {
  type: 'object',
  properties: { host: { type: 'string', maxLength: 63 }, return: { type: 'string', maxLength: 2000 } },
  required: ['host'],
};
