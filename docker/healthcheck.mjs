// Container health check: GET http://127.0.0.1:$PORT$HEALTH_PATH must answer 2xx within 3 s.
// The preflight header satisfies Apollo Server's CSRF prevention for GET queries (the catalog).
const url = `http://127.0.0.1:${process.env.PORT ?? '4001'}${process.env.HEALTH_PATH ?? '/health/ready'}`;
fetch(url, { headers: { 'apollo-require-preflight': 'true' }, signal: AbortSignal.timeout(3000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
