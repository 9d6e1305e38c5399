export type Id = number;
export const first: Id = 0;
