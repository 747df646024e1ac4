// Events/s with acks through a Socket.IO server over WebSocket (Engine.IO v4 spoken
// directly, no client library): C connections, W events in flight each, D seconds.
// usage: [TOKEN=jwt] node event-load.js URL EVENT PAYLOAD_JSON [C] [W] [D]
// Prints one JSON line. Node's `ws` comes from Debian (NODE_PATH=/usr/share/nodejs).
const WebSocket = require("ws");

const [url, event, payload, C = "50", W = "20", D = "10"] = process.argv.slice(2);
const token = process.env.TOKEN || "";
const connections = Number(C), window = Number(W), seconds = Number(D);
const frameFor = (id) => `42${id}${JSON.stringify([event, JSON.parse(payload)])}`;
let acked = 0, failed = 0, measuring = false;

function open(index) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/ws/socket.io/?EIO=4&transport=websocket`);
    let id = 0;
    const send = () => ws.send(frameFor(id++));
    ws.on("message", (data) => {
      const text = data.toString();
      if (text[0] === "0") return ws.send(token ? `40${JSON.stringify({ token })}` : "40");
      if (text === "2") return ws.send("3");
      if (text.startsWith("40")) { resolve(() => { for (let i = 0; i < window; i++) send(); }); return; }
      if (text.startsWith("44")) return reject(new Error(`refused: ${text}`));
      if (text.startsWith("43")) { if (measuring) acked++; return send(); }
      if (text.startsWith('42["error"')) { failed++; return send(); }
    });
    ws.on("error", reject);
  });
}

(async () => {
  const starts = [];
  for (let i = 0; i < connections; i++) starts.push(await open(i));
  starts.forEach((start) => start());
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  measuring = true;
  const begin = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = Number(process.hrtime.bigint() - begin) / 1e9;
  console.log(JSON.stringify({ event, connections, window, seconds: +elapsed.toFixed(2), acks_per_s: Math.round(acked / elapsed), errors: failed }));
  process.exit(0);
})().catch((e) => { console.error(e.message); process.exit(1); });
