export function Badge({ label }: Props) {
  return <span>{label}</span>;
}
