export function Badge({ label }: Props) {
  return <span className="badge">{label}</span>;
}
