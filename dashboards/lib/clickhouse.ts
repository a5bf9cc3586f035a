// A ClickHouse target: the SDK has no builder for the grafana-clickhouse-datasource plugin, so this is one
// (the SDK's custom-query-type pattern). pluginVersion is always set: without it the plugin treats the
// query as a v3 one and migrates it.
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { CLICKHOUSE_PLUGIN_VERSION, clickhouseDs } from './datasources.js';

/** The plugin's result formats. */
export const FORMAT = { timeseries: 0, table: 1, logs: 2, traces: 3 } as const;
export type ClickHouseQueryType = 'table' | 'timeseries' | 'logs' | 'traces';

export interface ClickHouseQuery {
  refId?: string;
  hide?: boolean;
  datasource: DataSourceRef;
  editorType: 'sql';
  rawSql: string;
  queryType: ClickHouseQueryType;
  format: (typeof FORMAT)[keyof typeof FORMAT];
  pluginVersion: string;
  _implementsDataqueryVariant(): void;
}

export class ClickHouseQueryBuilder implements Builder<Dataquery> {
  private readonly internal: ClickHouseQuery;

  constructor(rawSql: string, queryType: ClickHouseQueryType = 'table') {
    this.internal = {
      datasource: clickhouseDs,
      editorType: 'sql',
      rawSql,
      queryType,
      format: FORMAT[queryType],
      pluginVersion: CLICKHOUSE_PLUGIN_VERSION,
      _implementsDataqueryVariant() {},
    };
  }

  build(): ClickHouseQuery {
    return this.internal;
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }
}

/** `$__conditionalAll(col IN (${var:singlequote}), $var)`: no filter when the variable is All. */
export const inVar = (column: string, variable: string) => `$__conditionalAll(${column} IN (\${${variable}:singlequote}), $${variable})`;
