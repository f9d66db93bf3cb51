// A TOTP enrolment: what the authenticator app needs, shown to its user only while enrolling.
export function presentEnrolment(e: { otpauthUrl: string; secret: string; qrDataUrl: string }) {
  return { otpauthUrl: e.otpauthUrl, secret: e.secret, qrDataUrl: e.qrDataUrl };
}
