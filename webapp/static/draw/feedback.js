/* "Wrong? It was a …": send the last frame with the user's label to /api/feedback. */
const feedbackButtons = document.querySelector("#feedback-buttons");
const feedbackStatus = document.querySelector("#feedback-status");
const NOT_A_DIGIT = "not a digit"; // the API's label for a drawing that is no digit at all

/** Clear the feedback line (a new drawing starts). */
export function clearFeedbackStatus() {
  feedbackStatus.textContent = "";
}

async function sendFeedback(frame, label) {
  if (!frame) {
    feedbackStatus.textContent = "Draw a digit first.";
    feedbackStatus.className = "feedback-status warn";
    return;
  }
  const buttons = feedbackButtons.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  feedbackStatus.className = "feedback-status";
  feedbackStatus.textContent = "Sending…";
  try {
    const res = await fetch("/api/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image: frame, label }),
    });
    const body = await res.json().catch(() => ({}));
    if (res.ok) {
      const count = body.count !== undefined ? ` (${body.count} collected)` : "";
      const saved = label === NOT_A_DIGIT ? "not a digit" : `a ${label}`;
      feedbackStatus.textContent = `Thanks! Saved as ${saved}${count}.`;
      feedbackStatus.className = "feedback-status ok";
    } else {
      feedbackStatus.textContent = `Could not save: ${body.error || res.status}`;
      feedbackStatus.className = "feedback-status warn";
    }
  } catch (e) {
    feedbackStatus.textContent = `Could not save: ${e.message}`;
    feedbackStatus.className = "feedback-status warn";
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/** One button per digit and one for "not a digit"; `lastFrame()` gives the frame (a PNG data URL) the label is for. */
export function initFeedback(lastFrame) {
  for (let d = 0; d < 10; d++) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "fb-btn";
    b.textContent = String(d);
    b.setAttribute("aria-label", `It was a ${d}`);
    b.addEventListener("click", () => sendFeedback(lastFrame(), d));
    feedbackButtons.appendChild(b);
  }
  const none = document.createElement("button");
  none.type = "button";
  none.className = "fb-btn";
  none.textContent = "not a digit";
  none.setAttribute("aria-label", "It was not a digit");
  none.addEventListener("click", () => sendFeedback(lastFrame(), NOT_A_DIGIT));
  feedbackButtons.appendChild(none);
}
