/*
 * Offline behaviour for Great Expectations Data Docs (mes-eval).
 *
 * GX's pages call Bootstrap, Bootstrap Table and Vega-Embed, all loaded from CDNs. This
 * file, written for mes-eval, provides what the GX 1.x pages use, on top of the vendored
 * jQuery slim build:
 *  - $.fn.bootstrapTable: draws the index page's tables from their column and data
 *    options (search box, sortable columns, clickable rows firing click-row.bs.table);
 *  - tabs, collapse and toggle buttons (data-toggle="tab" | "collapse" | "buttons");
 *  - $.fn.fadeIn / fadeOut (missing from the slim build) as show / hide;
 *  - vegaEmbed: GX's charts are bar charts (KL divergence partitions); they are drawn as
 *    plain SVG, anything else as a table of the chart's data;
 *  - data-offline-styles="applied" on <html> once datadocs.css is seen to apply.
 * GX writes chart specifications as Python literals (None, True, False), so those names
 * are defined as their JavaScript values.
 */
(function (window, document, $) {
  "use strict";

  window.None = null;
  window.True = true;
  window.False = false;

  function callByName(name, args, fallback) {
    var fn = typeof name === "function" ? name : window[name];
    return typeof fn === "function" ? fn.apply(null, args) : fallback;
  }

  function plainText(html) {
    var div = document.createElement("div");
    div.innerHTML = html == null ? "" : String(html);
    return (div.textContent || "").replace(/\s+/g, " ").trim();
  }

  /* --- tables (the index page) ---------------------------------------------------------- */

  function sortValue(row, column) {
    var value = row[column.sortName || column.field];
    return typeof value === "number" ? value : plainText(value).toLowerCase();
  }

  // one run validates every entity at the same time: among equal run times, failed
  // validations come first, then by asset (or suite) name
  function tieBreak(a, b) {
    var keys = ["_validation_success_text", "asset_name", "_expectation_suite_name_sort"];
    for (var i = 0; i < keys.length; i++) {
      var x = plainText(a[keys[i]]);
      var y = plainText(b[keys[i]]);
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  }

  function renderTable(state) {
    var opts = state.opts;
    var columns = opts.columns || [];
    var query = state.query.toLowerCase();
    var rows = (opts.data || []).filter(function (row) {
      if (!query) return true;
      return columns.some(function (c) {
        return plainText(row[c.field]).toLowerCase().indexOf(query) >= 0;
      });
    });
    var sortColumn = columns.filter(function (c) {
      return c.field === state.sortName || c.sortName === state.sortName;
    })[0];
    if (sortColumn) {
      var sign = state.sortOrder === "desc" ? -1 : 1;
      rows.sort(function (a, b) {
        var x = sortValue(a, sortColumn);
        var y = sortValue(b, sortColumn);
        return x < y ? -sign : x > y ? sign : tieBreak(a, b);
      });
    }
    var $tbody = $("<tbody>");
    rows.forEach(function (row, index) {
      var $tr = $("<tr>");
      var attributes = callByName(opts.rowAttributes, [row, index], {}) || {};
      Object.keys(attributes).forEach(function (name) {
        if (name === "class") $tr.addClass(attributes[name]);
        else $tr.attr(name, attributes[name]);
      });
      var style = callByName(opts.rowStyle, [row, index], {}) || {};
      if (style.css) $tr.css(style.css);
      columns.forEach(function (c) {
        var $td = $("<td>").html(row[c.field] == null ? "" : String(row[c.field]));
        if (c.align) $td.css("text-align", c.align);
        $tr.append($td);
      });
      $tr.on("click", function () {
        state.$table.trigger("click-row.bs.table", [row, $tr]);
      });
      $tbody.append($tr);
    });
    if (!rows.length) {
      $tbody.append(
        $("<tr>").append(
          $("<td>").addClass("mes-empty").attr("colspan", columns.length).text("No matching records found")
        )
      );
    }
    state.$table.find("tbody").remove();
    state.$table.append($tbody);
    state.$table.find("th").each(function () {
      var $th = $(this);
      var key = $th.attr("data-sort");
      $th.removeClass("mes-asc mes-desc");
      if (key && key === state.sortName) $th.addClass(state.sortOrder === "desc" ? "mes-desc" : "mes-asc");
    });
    if (state.$count) state.$count.text(rows.length + " of " + (opts.data || []).length);
  }

  function buildTable($table, opts) {
    var state = {
      $table: $table,
      opts: opts,
      query: "",
      sortName: opts.sortName,
      sortOrder: opts.sortOrder || "asc",
    };
    $table.addClass("table table-sm mes-table").empty();
    var $row = $("<tr>");
    (opts.columns || []).forEach(function (c) {
      var $th = $("<th>").text(c.title || c.field);
      if (String(c.sortable) === "true") {
        var key = c.sortName || c.field;
        $th.addClass("mes-sortable").attr("data-sort", key).on("click", function () {
          state.sortOrder = state.sortName === key && state.sortOrder === "asc" ? "desc" : "asc";
          state.sortName = key;
          renderTable(state);
        });
      }
      $row.append($th);
    });
    $table.append($("<thead>").append($row));
    var $toolbar = opts.toolbar ? $(opts.toolbar) : $();
    if (String(opts.search) === "true") {
      state.$search = $('<input type="search" class="mes-search" placeholder="Search">');
      state.$search.on("input", function () {
        state.query = state.$search.val() || "";
        renderTable(state);
      });
      state.$count = $('<span class="mes-count">');
      var $bar = $('<div class="mes-toolbar">').append(state.$count, state.$search);
      if ($toolbar.length) $toolbar.addClass("mes-toolbar").prepend(state.$count, state.$search);
      else $table.before($bar);
    }
    $table.data("mesTable", state);
    renderTable(state);
  }

  $.fn.bootstrapTable = function (option) {
    return this.each(function () {
      var $table = $(this);
      if (typeof option === "string") {
        var state = $table.data("mesTable");
        if (state && option === "resetSearch") {
          state.query = "";
          if (state.$search) state.$search.val("");
          renderTable(state);
        }
        return; // clearFilterControl: there are no filter controls offline
      }
      buildTable($table, option || {});
    });
  };

  /* --- small pieces of Bootstrap's behaviour ------------------------------------------- */

  $.fn.fadeIn = function () {
    return this.show();
  };
  $.fn.fadeOut = function () {
    return this.hide();
  };
  $.fn.tooltip = $.fn.popover = function () {
    return this;
  };

  $(document).on("click", '[data-toggle="tab"]', function (event) {
    event.preventDefault();
    var $link = $(this);
    var pane = document.getElementById(($link.attr("href") || "").slice(1));
    $link.closest(".nav").find('[data-toggle="tab"]').removeClass("active").attr("aria-selected", "false");
    $link.addClass("active").attr("aria-selected", "true");
    if (pane) {
      $(pane).siblings(".tab-pane").removeClass("show active");
      $(pane).addClass("show active");
    }
  });

  $(document).on("click", '[data-toggle="collapse"]', function (event) {
    event.preventDefault();
    var target = $(this).attr("data-target") || $(this).attr("href") || "";
    var element = document.getElementById(target.replace(/^#/, ""));
    if (element) {
      $(element).toggleClass("show");
      $(this).attr("aria-expanded", String($(element).hasClass("show")));
    }
  });

  $(document).on("click", ".btn-group-toggle .btn", function () {
    $(this).addClass("active").siblings(".btn").removeClass("active");
  });

  /* --- charts --------------------------------------------------------------------------- */

  var SVG = "http://www.w3.org/2000/svg";

  function svgElement(name, attributes, text) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) {
      element.setAttribute(key, attributes[key]);
    });
    if (text != null) element.textContent = text;
    return element;
  }

  function number(value) {
    if (value == null) return null;
    var abs = Math.abs(value);
    if (abs >= 1e9) return (value / 1e9).toPrecision(3) + "G";
    if (abs >= 1e6) return (value / 1e6).toPrecision(3) + "M";
    if (abs >= 1e3) return (value / 1e3).toPrecision(3) + "k";
    return String(Math.round(value * 1000) / 1000);
  }

  function chartData(spec) {
    if (spec.data && spec.data.values) return spec.data.values;
    if (spec.data && spec.data.name && spec.datasets) return spec.datasets[spec.data.name] || [];
    return [];
  }

  function barChart(spec) {
    var encoding = spec.encoding || {};
    var mark = typeof spec.mark === "string" ? spec.mark : (spec.mark || {}).type;
    if (mark !== "bar" || !encoding.x || !encoding.y) return null;
    var rows = chartData(spec);
    var x = encoding.x.field;
    var x2 = encoding.x2 && encoding.x2.field;
    var y = encoding.y.field;
    var labels = rows.map(function (row) {
      if (!x2) return String(row[x]);
      var low = number(row[x]);
      var high = number(row[x2]);
      return (low == null ? "-\u221e" : low) + " \u2013 " + (high == null ? "+\u221e" : high);
    });
    var values = rows.map(function (row) {
      return Number(row[y]) || 0;
    });
    var top = Math.max.apply(null, values.concat([0])) || 1;
    var barWidth = 26;
    var left = 64; // room for the first rotated label
    var plotHeight = 160;
    var width = left + rows.length * (barWidth + 6) + 10;
    var height = plotHeight + 90;
    var svg = svgElement("svg", { class: "mes-chart", width: width, height: height, role: "img" });
    svg.appendChild(svgElement("line", { class: "mes-axis", x1: left, y1: 10, x2: left, y2: plotHeight + 10 }));
    svg.appendChild(
      svgElement("line", { class: "mes-axis", x1: left, y1: plotHeight + 10, x2: width, y2: plotHeight + 10 })
    );
    svg.appendChild(svgElement("text", { x: left - 4, y: 14, "text-anchor": "end" }, number(top)));
    svg.appendChild(svgElement("text", { x: left - 4, y: plotHeight + 10, "text-anchor": "end" }, "0"));
    values.forEach(function (value, i) {
      var h = (value / top) * plotHeight;
      var bx = left + 6 + i * (barWidth + 6);
      var bar = svgElement("rect", { class: "mes-bar", x: bx, y: plotHeight + 10 - h, width: barWidth, height: h });
      bar.appendChild(svgElement("title", {}, labels[i] + ": " + number(value)));
      svg.appendChild(bar);
      var lx = bx + barWidth / 2;
      var ly = plotHeight + 16;
      svg.appendChild(
        svgElement(
          "text",
          { x: lx, y: ly, "text-anchor": "end", transform: "rotate(-60 " + lx + " " + ly + ")" },
          labels[i]
        )
      );
    });
    svg.appendChild(svgElement("text", { x: 4, y: height - 4 }, y));
    return svg;
  }

  function dataTable(spec) {
    var rows = chartData(spec);
    var fields = rows.length ? Object.keys(rows[0]) : [];
    var $table = $('<table class="table table-sm table-bordered">');
    $table.append($("<thead>").append($("<tr>").append(fields.map(function (f) {
      return $("<th>").text(f);
    }))));
    var $body = $("<tbody>");
    rows.forEach(function (row) {
      $body.append($("<tr>").append(fields.map(function (f) {
        return $("<td>").text(row[f] == null ? "" : String(row[f]));
      })));
    });
    return $table.append($body)[0];
  }

  // GX logs what vegaEmbed resolves to; offline there is nothing worth logging, so the
  // result is a thenable that calls nothing back
  var settled = {
    then: function () {
      return settled;
    },
    catch: function () {
      return settled;
    },
  };

  window.vegaEmbed = function (target, spec) {
    var element = typeof target === "string" ? document.querySelector(target) : target;
    if (element && spec) element.appendChild(barChart(spec) || dataTable(spec));
    return settled;
  };

  // for tests and for anyone wondering: did datadocs.css reach the page? (Bootstrap's
  // navbar is a flex box; an unstyled one is a block)
  $(function () {
    var navbar = document.querySelector(".navbar");
    var styled = navbar && window.getComputedStyle(navbar).display === "flex";
    document.documentElement.setAttribute("data-offline-styles", styled ? "applied" : "missing");
  });
})(window, document, window.jQuery);
