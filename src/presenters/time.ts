// Times in responses: ISO 8601 in UTC, null for never.
export const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
