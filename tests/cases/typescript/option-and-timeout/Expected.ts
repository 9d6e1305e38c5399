export function connect(url: string): Client {
  return new Client(url, { retry: true, timeout: 5000 });
}
