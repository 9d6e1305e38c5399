<<<<<<< Left
export type Id = string;
=======
export type Id = bigint;
>>>>>>> Right
export const first: Id = 0;
