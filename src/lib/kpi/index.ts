export * from './calendar';
export * from './buckets';
export * from './kpis';
export * from './report';
export * from './stats';
