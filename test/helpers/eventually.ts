/**
 * Retries an assertion until it passes: for effects that arrive asynchronously (a notification
 * delivered, a reconnect done). Fails with the last assertion error after `timeoutMs`.
 */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 20_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err: unknown) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}
