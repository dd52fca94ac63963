// Periodic task: ask the app how many requests it has served.
const port = process.env.PORT ?? 8080;
try {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  const { served } = await res.json();
  console.log(`the app has served ${served} requests`);
} catch (error) {
  console.log(`the app is not answering yet (${error.message})`);
}
