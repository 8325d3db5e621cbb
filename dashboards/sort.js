// Click a column header of a table.sortable to sort its rows; click again to
// reverse. Numeric cells carry their raw value in data-v.
(function () {
  "use strict";
  function key(cell) {
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-v");
    if (v !== null) { return v === "" ? -Infinity : parseFloat(v); }
    return cell.textContent.trim().toLowerCase();
  }
  function sortBy(table, th, index) {
    var body = table.tBodies[0];
    var descending = th.getAttribute("aria-sort") !== "descending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      var order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "ru");
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    table.setAttribute("data-sortable", "ready");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.addEventListener("click", function () { sortBy(table, th, index); });
    });
  });
})();
