export type Id = bigint;
export const first: Id = 0;
