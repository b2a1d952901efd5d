/* The Socket.IO connection and its indicator in the top bar. socket.io.min.js (a classic
 * script loaded first) provides the global `io`. */
const connEl = document.querySelector("#conn");
const connDot = document.querySelector("#conn-dot");

function setConn(state) {
  connEl.textContent = state;
  connDot.className = "dot " + ({
    connected: "dot-on", reconnecting: "dot-wait", disconnected: "dot-off",
  }[state] || "dot-wait");
}

/* Websocket first: one TCP connection, which any load balancer may send to any web process
 * (the default, long-polling then an upgrade, needs every request of a session to reach the
 * same process). Where the websocket cannot open (a network that blocks websockets),
 * `tryAllTransports` falls back to long-polling, which works behind nginx's sticky routing
 * (deploy/nginx.conf). batch.js uses the same options. */
export const SOCKET_OPTIONS = { transports: ["websocket", "polling"], tryAllTransports: true };

/** Connect; `onReconnect` runs after every reconnect (not the first connect). */
export function connectSocket(onReconnect) {
  const socket = io(SOCKET_OPTIONS);
  let everConnected = false;

  socket.on("connect", () => {
    setConn("connected");
    if (everConnected) onReconnect();
    everConnected = true;
  });
  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") {
      // The server kicked us; Socket.IO will not retry on its own in this case.
      setConn("reconnecting");
      socket.connect();
    } else if (reason === "io client disconnect") {
      setConn("disconnected");
    } else {
      setConn("reconnecting");
    }
  });
  socket.on("connect_error", () => {
    if (!socket.connected) setConn(socket.active ? "reconnecting" : "disconnected");
  });
  socket.io.on("reconnect_attempt", () => setConn("reconnecting"));
  socket.io.on("reconnect_failed", () => setConn("disconnected"));
  setConn(socket.connected ? "connected" : "connecting…");
  return socket;
}
