/* Undo the last stroke: the #undo button, Ctrl-Z and Cmd-Z (not while typing in a field). */

/** Call `onUndo()` on the button and on Ctrl-Z / Cmd-Z. */
export function initUndo(onUndo) {
  document.querySelector("#undo").addEventListener("click", onUndo);
  document.addEventListener("keydown", (ev) => {
    if (!(ev.ctrlKey || ev.metaKey) || ev.shiftKey || ev.altKey) return;
    if (ev.key !== "z" && ev.key !== "Z") return;
    const t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    ev.preventDefault();
    onUndo();
  });
}
