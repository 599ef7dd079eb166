// careerbot's page behaviour. Listeners are delegated on the document because Gradio re-renders chat
// messages, the sources panel and the lists whenever their values change.
(function () {
  var PHONE = "(max-width: 768px)";
  var lastCitation = null, readerOpener = null, readerRequest = 0;

  function isPhone() { return window.matchMedia(PHONE).matches; }
  // The sheet and drawer classes go on the chat tab's row: Gradio scopes the app's CSS inside its
  // container, so a class on <body> would not match inside a media query.
  function layout() { return document.getElementById("cb-layout") || document.body; }

  // ----- citations and the sources sheet ------------------------------------------------------------
  // A click on [n] brings source n of that answer into view and highlights it; on a phone the sources
  // open as a sheet over the chat, and "Back to the answer" closes it and returns to the link.
  function showSource(link) {
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return false;
    lastCitation = link;
    if (isPhone()) layout().classList.add("cb-sheet-open");
    document.querySelectorAll(".cb-source.cb-active").forEach(function (el) { el.classList.remove("cb-active"); });
    target.classList.add("cb-active");
    target.scrollIntoView({ behavior: "smooth", block: "center", inline: "nearest" });
    return true;
  }

  function closeSheet() {
    layout().classList.remove("cb-sheet-open");
    if (lastCitation && document.body.contains(lastCitation)) {
      lastCitation.scrollIntoView({ block: "center" });
      lastCitation.focus({ preventScroll: true });
    }
  }

  // ----- the article reader -------------------------------------------------------------------------
  function reader() { return document.querySelector("#cb-reader .cb-reader"); }

  function openArticle(button) {
    var box = reader();
    if (!box || !window.cbReadArticle) return;
    readerOpener = button;
    // Only the latest request may fill the reader: on a slow server an earlier article's reply can come after
    // the reader was closed or another article opened, and would replace it (and scroll to its passage).
    var request = ++readerRequest;
    var body = box.querySelector(".cb-reader-body");
    body.innerHTML = "<p class=\"cb-none\">Opening the article…</p>";
    box.hidden = false;
    document.body.style.overflow = "hidden";
    window.cbReadArticle({ source: button.dataset.source, chunk_id: button.dataset.chunk || "",
                           quote: button.dataset.quote || "" }).then(function (html) {
      if (request !== readerRequest) return;
      body.innerHTML = html;  // rendered on the server with every piece of article text escaped
      var hit = document.getElementById("cb-reader-hit");
      if (hit) hit.scrollIntoView({ block: "center" }); else body.scrollTop = 0;
      box.querySelector(".cb-reader-close").focus({ preventScroll: true });
    }, function () {
      if (request === readerRequest) body.innerHTML = "<p class=\"cb-error\">The article could not be loaded; try again.</p>";
    });
  }

  function closeReader() {
    var box = reader();
    if (!box || box.hidden) return false;
    box.hidden = true;
    readerRequest += 1;  // a reply still on its way is for a reader no longer open
    document.body.style.overflow = "";
    if (readerOpener && document.body.contains(readerOpener)) readerOpener.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var el = event.target && event.target.closest ? event.target : null;
    if (!el) return;
    var link = el.closest('a[href^="#cb-src-"]');
    if (link) { if (showSource(link)) event.preventDefault(); return; }
    if (el.closest(".cb-sheet-close")) { closeSheet(); return; }
    var article = el.closest(".cb-open-article");
    if (article) { openArticle(article); return; }
    if (el.closest(".cb-reader-close") || el.classList.contains("cb-reader")) { closeReader(); return; }
    if (el.closest(".cb-chats-toggle")) { layout().classList.toggle("cb-chats-open"); return; }
    if (el.closest("#cb-new")) layout().classList.remove("cb-chats-open");
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (!closeReader()) { layout().classList.remove("cb-chats-open"); closeSheet(); }
  });

  // ----- copy as plain text -------------------------------------------------------------------------
  // Gradio's copy button writes a message's content, which is our HTML. Answers carry their plain text
  // (prose with [n] markers and a "Sources:" list) in a hidden .cb-plain span; anything else is reduced
  // to its text.
  // DOMParser documents run no scripts and load no images.
  function plainText(text) {
    if (typeof text !== "string" || text.indexOf("<") < 0) return text;
    var doc = new DOMParser().parseFromString(text, "text/html");
    doc.querySelectorAll(".cb-answer").forEach(function (el) {
      var plain = el.querySelector(".cb-plain");
      if (plain) el.replaceWith(doc.createTextNode(plain.textContent));
    });
    doc.querySelectorAll("br").forEach(function (el) { el.replaceWith(doc.createTextNode("\n")); });
    doc.querySelectorAll("p, li").forEach(function (el) { el.append(doc.createTextNode("\n")); });
    return doc.body.textContent.replace(/\n{3,}/g, "\n\n").trim();
  }
  if (navigator.clipboard && navigator.clipboard.writeText) {
    var write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = function (text) { return write(plainText(text)); };
  }

  // ----- accessible names, the length counter -------------------------------------------------------
  // Gradio names each message by its raw content (HTML); give screen readers the plain text instead.
  function nameMessages() {
    document.querySelectorAll("#cb-chat [aria-label][data-testid]").forEach(function (el) {
      var role = el.getAttribute("data-testid");
      if (role !== "bot" && role !== "user") return;
      var plain = el.querySelector(".cb-plain");
      var text = plain ? plain.textContent : el.textContent.trim();
      var name = (role === "bot" ? "careerbot's answer: " : "Your question: ") + text;
      if (el.getAttribute("aria-label") !== name) el.setAttribute("aria-label", name);
    });
  }

  function count() {
    var box = document.querySelector("#cb-question textarea"), out = document.getElementById("cb-counter");
    if (!box || !out) return;
    var max = parseInt(out.dataset.max, 10), n = box.value.length;
    var text = n > max ? n.toLocaleString("en") + " / " + max.toLocaleString("en") + " characters: shorten it by " +
               (n - max).toLocaleString("en") : (n > max * 0.8 ? n.toLocaleString("en") + " / " +
               max.toLocaleString("en") + " characters" : "");
    out.classList.toggle("cb-over", n > max);
    if (out.textContent !== text) out.textContent = text;
  }

  function start() {
    new MutationObserver(nameMessages).observe(document.body, { subtree: true, childList: true, attributes: true,
                                                                 attributeFilter: ["aria-label"] });
    document.addEventListener("input", function (event) {
      if (event.target && event.target.closest && event.target.closest("#cb-question")) count();
    });
    window.setInterval(count, 500);  // the box is also emptied by the app after each question
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
