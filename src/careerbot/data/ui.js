// Citation links: a click on [n] in an answer brings source n of that answer into view and highlights it.
// Delegated on the document because Gradio re-renders chat messages and the sources panel.
document.addEventListener("click", function (event) {
  var link = event.target && event.target.closest ? event.target.closest('a[href^="#cb-src-"]') : null;
  if (!link) return;
  var target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  event.preventDefault();
  document.querySelectorAll(".cb-source.cb-active").forEach(function (el) { el.classList.remove("cb-active"); });
  target.classList.add("cb-active");
  target.scrollIntoView({ behavior: "smooth", block: "center" });
});
