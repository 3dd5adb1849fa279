// Progressive enhancement only: every page works without this file.
// Adds search-as-you-type title suggestions (a <datalist> fed by /api/suggest),
// "/" to jump to the search box, and opens the filters on wide screens in older browsers.
(function () {
  "use strict";

  // Post images are remote; hide the ones that fail to load instead of showing a broken icon.
  function hideIfBroken(img) {
    if (img.complete && img.naturalWidth === 0) {
      img.classList.add("broken");
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll("img.thumb, .post-cover img"), function (img) {
    img.addEventListener("error", function () {
      img.classList.add("broken");
    });
    hideIfBroken(img);
  });

  // style.css shows the filters as an open column on wide screens through ::details-content;
  // where a browser lacks it, open the disclosure here instead (it still works folded).
  var filters = document.querySelector(".filters-disclosure");
  if (filters && window.matchMedia && window.matchMedia("(min-width: 761px)").matches &&
      !(window.CSS && CSS.supports && CSS.supports("selector(::details-content)"))) {
    filters.open = true;
  }

  var input = document.getElementById("q");
  if (!input || !window.fetch) {
    return;
  }

  var url = input.getAttribute("data-suggest-url");
  var list = document.createElement("datalist");
  list.id = "q-suggestions";
  input.parentNode.appendChild(list);
  input.setAttribute("list", list.id);

  var timer = null;
  var lastAsked = "";
  var controller = null;

  function fill(titles) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    titles.forEach(function (title) {
      var option = document.createElement("option");
      option.value = title; // text only: titles are untrusted
      list.appendChild(option);
    });
  }

  function ask(prefix) {
    if (controller) {
      controller.abort();
    }
    controller = window.AbortController ? new AbortController() : null;
    fetch(url + "?q=" + encodeURIComponent(prefix), {
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) {
        return response.ok ? response.json() : { suggestions: [] };
      })
      .then(function (body) {
        if (input.value.trim() === prefix) {
          fill(body.suggestions || []);
        }
      })
      .catch(function () {
        // Suggestions are optional; a failed request just shows none.
      });
  }

  input.addEventListener("input", function () {
    var prefix = input.value.trim();
    window.clearTimeout(timer);
    if (!prefix) {
      fill([]);
      lastAsked = "";
      return;
    }
    if (prefix === lastAsked) {
      return;
    }
    timer = window.setTimeout(function () {
      lastAsked = prefix;
      ask(prefix);
    }, 150);
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
})();
