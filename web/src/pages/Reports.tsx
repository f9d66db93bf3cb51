// Reports: approvals over a period per approver, median time to decision, expired requests and the most
// requested devices; exportable as CSV.
import { get, qs } from '../api';
import { Table, useLoad } from '../ui';
import type { Report } from '../types';
import { useFilter } from '../url';

const day = (d: Date) => d.toISOString().slice(0, 10);

export function ReportsPage() {
  const [period, setPeriod] = useFilter({
    since: day(new Date(Date.now() - 30 * 86_400_000)),
    until: day(new Date(Date.now() + 86_400_000)),
  });
  const { since, until } = period;
  const q = qs({ since: new Date(since).toISOString(), until: new Date(until).toISOString() });
  const { data, error } = useLoad(() => get<Report>(`/reports/approvals${q}`), [q]);
  return (
    <>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Report period">
        <label>
          From <input type="date" value={since} onChange={(e) => setPeriod({ ...period, since: e.target.value }, true)} />
        </label>
        <label>
          Until <input type="date" value={until} onChange={(e) => setPeriod({ ...period, until: e.target.value }, true)} />
        </label>
        <a className="button secondary" href={`/api/v1/reports/approvals${q}&format=csv`} download="approvals-report.csv">
          Export CSV
        </a>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && (
        <>
          <p>
            {data.requests} requests, {data.expired} expired, {data.autoApproved} auto-approved; median time to decision{' '}
            {data.medianMinutesToDecision === null ? '—' : `${data.medianMinutesToDecision} min`}.
          </p>
          <Table
            label="Approvals per approver"
            head={['Approver', 'Approved', 'Rejected', 'Median minutes to decision']}
            rows={data.perApprover.map((a) => [a.approver, a.approved, a.rejected, a.medianMinutesToDecision ?? '—'])}
            empty="No decisions in this period."
          />
          <Table
            label="Most requested devices"
            head={['Device', 'Requests']}
            rows={data.topDevices.map((d) => [d.device, d.requests])}
            empty="No requests in this period."
          />
        </>
      )}
    </>
  );
}
