"""Reports: read-only figures over orders and broadcasts for any area and period, the monthly
bulletin (月报) with charts and its exports (PDF, Excel, CSV), the bulletin archive, and the
volunteer points ledger (积分). Front ends go through `reports.service.ReportService`."""
