export type Id = string;
export const first: Id = 0;
