export function connect(url: string): Client {
  return new Client(url, { retry: false, timeout: 1000 });
}
