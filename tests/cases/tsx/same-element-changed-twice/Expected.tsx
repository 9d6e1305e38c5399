export function Badge({ label }: Props) {
<<<<<<< Left
  return <b>{label}</b>;
=======
  return <i>{label}</i>;
>>>>>>> Right
}
