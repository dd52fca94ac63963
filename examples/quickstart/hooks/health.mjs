// Health check: exit 0 when the app answers on /health.
const port = process.env.PORT ?? 8080;
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch (error) {
  console.error(`health: ${error.message}`);
  process.exit(1);
}
