export function Badge({ label }: Props) {
  return <i>{label}</i>;
}
