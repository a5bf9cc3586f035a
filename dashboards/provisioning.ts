// Grafana file provisioning: the two datasources with their fixed uids, and a file provider for dashboards/.
import { CLICKHOUSE, PROMETHEUS } from './lib/datasources.js';
import { TAG } from './lib/panels.js';

export function datasourcesProvisioning() {
  return {
    apiVersion: 1,
    datasources: [
      { name: PROMETHEUS.name, uid: PROMETHEUS.uid, type: PROMETHEUS.type, access: 'proxy', url: 'http://localhost:9090', isDefault: true, jsonData: { timeInterval: '15s' } },
      {
        name: CLICKHOUSE.name,
        uid: CLICKHOUSE.uid,
        type: CLICKHOUSE.type,
        // A ClickHouse server (storage.clickhouse): Grafana cannot reach the embedded store. Grafana expands
        // $CLICKHOUSE_PASSWORD from its environment, so the password stays out of the file.
        jsonData: { host: 'localhost', port: 9000, protocol: 'native', username: 'tunewatch', defaultDatabase: 'tunewatch', secure: false },
        secureJsonData: { password: '$CLICKHOUSE_PASSWORD' },
      },
    ],
  };
}

export function dashboardsProvisioning() {
  return {
    apiVersion: 1,
    providers: [
      {
        name: TAG,
        folder: TAG,
        type: 'file',
        disableDeletion: false,
        // The JSON in git is the source of truth: edits in the UI would be lost at the next provisioning.
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: '/var/lib/grafana/dashboards/tunewatch', foldersFromFilesStructure: false },
      },
    ],
  };
}
