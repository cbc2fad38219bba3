// Keyboard for the uptime bars (statusapp/ui/public/uptime.py): each strip is one tab stop
// (today's bar); the arrow keys, Home and End move between its days, whose details show on focus.
(function () {
  if (window.__uptimeBarsKeys) { return; }
  window.__uptimeBarsKeys = true;
  document.addEventListener("keydown", function (event) {
    var bar = event.target;
    if (!bar || !bar.classList || !bar.classList.contains("uptime-bar")) { return; }
    var bars = Array.prototype.slice.call(bar.parentNode.querySelectorAll(":scope > .uptime-bar"));
    var i = bars.indexOf(bar);
    var next = {ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: bars.length - 1}[event.key];
    if (next === undefined || next < 0 || next >= bars.length) { return; }
    event.preventDefault();
    bars.forEach(function (b) { b.tabIndex = -1; });
    bars[next].tabIndex = 0;
    bars[next].focus();
  });
})();
