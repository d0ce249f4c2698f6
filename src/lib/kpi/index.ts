export * from './calendar';
export * from './buckets';
export * from './kpis';
export * from './report';
export * from './stats';
export * from './packed';
export * from './pipeline-history';
export * from './benchmark';
