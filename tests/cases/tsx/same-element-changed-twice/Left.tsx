export function Badge({ label }: Props) {
  return <b>{label}</b>;
}
