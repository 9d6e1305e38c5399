export function Badge({ label }: Props) {
  return <span className="badge badge-primary">{label}</span>;
}
