// The two datasources, with fixed uids: file provisioning does not resolve `${DS_…}` inputs (grafana#10786),
// so the provisioned datasources carry these uids and each dashboard's datasource variable defaults to them.
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

export const PROMETHEUS = { name: 'tunewatch Prometheus', uid: 'tunewatch-prometheus', type: 'prometheus' } as const;
export const CLICKHOUSE = { name: 'tunewatch ClickHouse', uid: 'tunewatch-clickhouse', type: 'grafana-clickhouse-datasource' } as const;
/** Set on every ClickHouse target: without it the plugin migrates the query as a v3 one. */
export const CLICKHOUSE_PLUGIN_VERSION = '4.0.0';

/** The dashboards' datasource variables; panels point at the variable, which defaults to the fixed uid. */
export const DS_VAR = { prometheus: 'datasource', clickhouse: 'clickhouse' } as const;

export const promDs: DataSourceRef = { type: PROMETHEUS.type, uid: `\${${DS_VAR.prometheus}}` };
export const clickhouseDs: DataSourceRef = { type: CLICKHOUSE.type, uid: `\${${DS_VAR.clickhouse}}` };
