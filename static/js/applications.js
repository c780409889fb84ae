// Photo pre-review: upload on choose with progress, in-page downscale, the photo viewer.
// Everything here is an enhancement: without it the forms post normally and links open photos.
(function () {
  "use strict";

  document.documentElement.classList.add("app-js");
  // The server keeps photos at 1600 px and JPEG quality 70 (LONG_EDGE and QUALITY in
  // app/uploads/imaging.py): more would only cost the person data (quality 0.9 sent twice the
  // bytes, for the same copy in the end) and the server a resize.
  var TARGET_EDGE = 1600;
  var QUALITY = 0.7;
  var SHRINKABLE = ["image/jpeg", "image/png", "image/webp"];

  function closest(el, selector) {
    return el && el.closest ? el.closest(selector) : null;
  }

  // Downscale to TARGET_EDGE where the browser can decode the photo; HEIC and anything odd go
  // as they are, and the server checks every byte regardless.
  function shrink(file) {
    if (!window.createImageBitmap || !window.DataTransfer || SHRINKABLE.indexOf(file.type) < 0) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var edge = Math.max(bitmap.width, bitmap.height);
      if (edge <= TARGET_EDGE) { bitmap.close(); return file; }
      var ratio = TARGET_EDGE / edge;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * ratio);
      canvas.height = Math.round(bitmap.height * ratio);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  // ---- the phone's check before upload (智能预审): light, sharpness and size ----
  // Measured on a small grey copy of the photo as it will be sent (after the downscale above);
  // bench/ocr.py runs these functions in Chromium on generated photos and sets the thresholds.
  var CHECK_EDGE = 640;
  var DARK_BELOW = 60; // mean luma, 0-255
  var BLURRED_BELOW = 30; // variance of the weaker second derivative of the grey copy
  var SMALL_BELOW = 600; // the photo's short edge, px
  var CRISP_ONE_WAY = 1500; // bench/ocr.py: good photos reach 800, smeared ones 450

  function measure(file) {
    if (!window.createImageBitmap) return Promise.resolve(null);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var ratio = Math.min(1, CHECK_EDGE / Math.max(bitmap.width, bitmap.height));
      var w = Math.max(3, Math.round(bitmap.width * ratio));
      var h = Math.max(3, Math.round(bitmap.height * ratio));
      var canvas = document.createElement("canvas");
      canvas.width = w;
      canvas.height = h;
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.imageSmoothingQuality = "high";
      context.drawImage(bitmap, 0, 0, w, h);
      var size = { width: bitmap.width, height: bitmap.height };
      bitmap.close();
      var rgba = context.getImageData(0, 0, w, h).data;
      var grey = new Float32Array(w * h);
      var total = 0;
      for (var i = 0; i < w * h; i++) {
        grey[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
        total += grey[i];
      }
      // The Laplacian split in its two directions: a photo blurred by a moving hand keeps sharp
      // edges across the movement, so the weaker direction is the one that tells, unless the
      // other is crisper than any photo that moved (a page of ruled lines has one direction).
      var across = secondDerivativeVariance(grey, w, h, 1);
      var down = secondDerivativeVariance(grey, w, h, w);
      var strong = Math.max(across, down);
      var sharpness = strong >= CRISP_ONE_WAY ? strong : Math.min(across, down);
      return { width: size.width, height: size.height, brightness: Math.round(total / (w * h)),
        sharpness: Math.round(sharpness * 10) / 10 };
    }).catch(function () { return null; });
  }

  function secondDerivativeVariance(grey, w, h, step) {
    var sum = 0, squares = 0, n = 0;
    for (var y = 1; y < h - 1; y++) {
      for (var x = 1; x < w - 1; x++) {
        var at = y * w + x;
        var v = 2 * grey[at] - grey[at - step] - grey[at + step];
        sum += v;
        squares += v * v;
        n++;
      }
    }
    var mean = sum / n;
    return squares / n - mean * mean;
  }

  function issuesOf(m) {
    if (!m) return [];
    var found = [];
    if (m.brightness < DARK_BELOW) found.push("dark");
    else if (m.sharpness < BLURRED_BELOW) found.push("blurred");
    if (Math.min(m.width, m.height) < SMALL_BELOW) found.push("small");
    return found;
  }

  window.PalmPhotoCheck = { shrink: shrink, measure: measure, issues: issuesOf };

  function setFile(input, file) {
    if (input.files[0] === file) return;
    var transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
  }

  function showError(form, message) {
    var box = form.querySelector(".app-send-error");
    if (!box) return;
    if (message) box.firstChild.textContent = message + " ";
    box.hidden = false;
  }

  function send(form) {
    var box = form.querySelector(".app-send-error");
    if (box) box.hidden = true;
    window.htmx.trigger(form, "upload");
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("app-file") || !window.htmx) return;
    var form = closest(input, "form.app-upload");
    var file = input.files && input.files[0];
    if (!form || !file) return;
    // Two buttons, one photo: a file left in the other input must not travel too.
    form.querySelectorAll(".app-file").forEach(function (other) {
      if (other !== input) other.value = "";
    });
    hideCheck(form);
    shrink(file).then(function (small) {
      setFile(input, small);
      var max = parseInt(form.getAttribute("data-max-bytes"), 10);
      if (max && small.size > max) {
        showError(form, "照片不能超过 " + Math.round(max / 1048576) + "MB");
        var retry = form.querySelector(".app-retry");
        if (retry) retry.hidden = true;
        return;
      }
      return measure(small).then(function (m) {
        var found = record(form, m);
        if (found.length && form.querySelector(".app-check")) {
          showCheck(form, found, input, small);
        } else {
          send(form);
        }
      });
    });
  });

  // The check's figures travel with the photo (hidden fields), so the choice is recorded with it.
  function record(form, m) {
    var found = issuesOf(m);
    var set = function (name, value) {
      var field = form.querySelector("input[name='" + name + "']");
      if (field) field.value = value;
    };
    set("check_issues", found.join(","));
    set("check_kept", "");
    set("check_brightness", m ? m.brightness : "");
    set("check_sharpness", m ? m.sharpness : "");
    return found;
  }

  // 照片偏暗/可能不清晰,建议重拍: 重拍 opens the camera again, 仍然使用 sends it as it is.
  function showCheck(form, found, input, file) {
    var box = form.querySelector(".app-check");
    var words = found.map(function (code) { return box.getAttribute("data-" + code); });
    box.querySelector(".app-check-text").textContent = "照片" + words.join("、") + ",建议重拍";
    var preview = box.querySelector(".app-check-preview");
    if (preview && window.URL && URL.createObjectURL) {
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    }
    box.hidden = false;
    box.checkInput = input;
    box.querySelector(".app-retake").focus();
  }

  function hideCheck(form) {
    var box = form && form.querySelector(".app-check");
    if (box) box.hidden = true;
  }

  document.addEventListener("click", function (event) {
    var retake = closest(event.target, ".app-retake");
    var keep = closest(event.target, ".app-keep");
    var form = closest(retake || keep, "form.app-upload");
    if (!form) return;
    var box = form.querySelector(".app-check");
    box.hidden = true;
    if (keep) {
      form.querySelector("input[name='check_kept']").value = "1";
      send(form);
      return;
    }
    var retakes = form.querySelector("input[name='check_retakes']");
    retakes.value = (parseInt(retakes.value, 10) || 0) + 1;
    var input = box.checkInput || form.querySelector(".app-file");
    input.value = "";
    input.click();
  });

  document.addEventListener("click", function (event) {
    var retry = closest(event.target, ".app-retry");
    if (retry) send(closest(retry, "form.app-upload"));
  });

  document.addEventListener("htmx:xhr:loadstart", function (event) {
    var bar = event.target.querySelector && event.target.querySelector(".app-progress");
    if (bar) { bar.value = 0; bar.hidden = false; }
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var bar = event.target.querySelector && event.target.querySelector(".app-progress");
    if (bar && event.detail.lengthComputable) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
      bar.textContent = bar.value + "%";
    }
  });

  // A dropped connection: say so beside the material and keep the chosen file for 重试.
  document.addEventListener("htmx:sendError", function (event) {
    var form = closest(event.target, "form.app-upload");
    if (!form) return;
    event.stopPropagation();
    var bar = form.querySelector(".app-progress");
    var retry = form.querySelector(".app-retry");
    if (bar) bar.hidden = true;
    if (retry) retry.hidden = false;
    showError(form, "上传失败,请重试");
  }, true);

  // A refused photo (or a photo store that is down: 503) comes back as the material's card with
  // the message in it: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var target = event.detail.target;
    var refused = (xhr.status >= 400 && xhr.status < 500) || xhr.status === 503;
    if (refused && target && target.classList.contains("app-material")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // ---- the full-screen viewer (the clerk's review, the citizen's materials): swipe, pinch-zoom, rotate ----
  var viewer = null;
  var state = { list: [], index: 0, scale: 1, turn: 0, x: 0, y: 0 };

  function apply() {
    var img = viewer.querySelector(".app-viewer-img");
    img.style.transform = "translate(" + state.x + "px," + state.y + "px) rotate(" +
      state.turn + "deg) scale(" + state.scale + ")";
  }

  // The thumbnail the page already holds goes up at once and the 1600 px copy replaces it once
  // it has arrived: on a slow line the clerk sees the photo, not a black screen (the copies are
  // baseline JPEG, which would otherwise paint top to bottom; app/uploads/imaging.py).
  function show(index) {
    state.index = (index + state.list.length) % state.list.length;
    state.scale = 1; state.turn = 0; state.x = 0; state.y = 0;
    var img = viewer.querySelector(".app-viewer-img");
    var photo = state.list[state.index];
    img.src = photo.thumb || photo.full;
    if (photo.thumb) {
      var full = new Image();
      full.onload = function () {
        if (state.list[state.index] !== photo || viewer.hidden) return;  // moved on meanwhile
        img.src = photo.full;
      };
      full.src = photo.full;
    }
    viewer.querySelector(".app-viewer-count").textContent =
      (state.index + 1) + " / " + state.list.length;
    apply();
  }

  function open(link) {
    var links = Array.prototype.slice.call(document.querySelectorAll("a.app-photo-link"));
    state.list = links.map(function (a) {
      var thumb = a.querySelector("img");
      return { full: a.href, thumb: thumb ? thumb.currentSrc || thumb.src : null };
    });
    viewer.hidden = false;
    // One photo: nothing to go to
    viewer.querySelector(".app-viewer-prev").hidden = state.list.length < 2;
    viewer.querySelector(".app-viewer-next").hidden = state.list.length < 2;
    document.documentElement.classList.add("app-viewing");
    show(links.indexOf(link));
    viewer.querySelector(".app-viewer-close").focus();
    // The phone's back gesture closes the viewer rather than leaving the page.
    history.pushState({ photoViewer: true }, "");
  }

  function hide() {
    viewer.hidden = true;
    document.documentElement.classList.remove("app-viewing");
  }

  function close() {
    if (viewer.hidden) return;
    if (history.state && history.state.photoViewer) {
      history.back();  // the popstate listener hides it
    } else {
      hide();
    }
  }

  function reset() {
    state.scale = 1; state.x = 0; state.y = 0;
    apply();
  }

  function distance(touches) {
    return Math.hypot(touches[0].clientX - touches[1].clientX,
      touches[0].clientY - touches[1].clientY);
  }

  function wireViewer() {
    viewer = document.getElementById("photo-viewer");
    if (!viewer) return;
    var start = null;
    document.addEventListener("click", function (event) {
      var link = closest(event.target, "a.app-photo-link");
      if (!link) return;
      event.preventDefault();
      open(link);
    });
    viewer.querySelector(".app-viewer-prev").addEventListener("click", function () { show(state.index - 1); });
    viewer.querySelector(".app-viewer-next").addEventListener("click", function () { show(state.index + 1); });
    viewer.querySelector(".app-viewer-close").addEventListener("click", close);
    viewer.querySelector(".app-viewer-rotate").addEventListener("click", function () {
      state.turn = (state.turn + 90) % 360;
      apply();
    });
    window.addEventListener("popstate", function () {
      if (!viewer.hidden) hide();
    });
    var lastTap = 0;
    document.addEventListener("keydown", function (event) {
      if (viewer.hidden) return;
      if (event.key === "Escape") close();
      if (event.key === "ArrowLeft") show(state.index - 1);
      if (event.key === "ArrowRight") show(state.index + 1);
    });
    var img = viewer.querySelector(".app-viewer-img");
    img.addEventListener("touchstart", function (event) {
      var t = event.touches;
      start = { x: t[0].clientX, y: t[0].clientY, ox: state.x, oy: state.y, scale: state.scale,
        dist: t.length > 1 ? distance(t) : 0, time: Date.now() };
    }, { passive: true });
    img.addEventListener("touchmove", function (event) {
      if (!start) return;
      var t = event.touches;
      event.preventDefault();
      if (t.length > 1 && start.dist) {
        state.scale = Math.min(5, Math.max(1, start.scale * distance(t) / start.dist));
      } else if (state.scale > 1) {
        state.x = start.ox + t[0].clientX - start.x;
        state.y = start.oy + t[0].clientY - start.y;
      }
      apply();
    }, { passive: false });
    img.addEventListener("touchend", function (event) {
      if (!start || event.touches.length) return;
      var dx = event.changedTouches[0].clientX - start.x;
      var dy = event.changedTouches[0].clientY - start.y;
      var tap = !start.dist && Math.abs(dx) < 10 && Math.abs(dy) < 10 && Date.now() - start.time < 300;
      if (tap && Date.now() - lastTap < 350) {  // double-tap: back to the whole photo
        lastTap = 0; start = null;
        event.preventDefault();
        reset();
        return;
      }
      lastTap = tap ? Date.now() : 0;
      if (state.scale === 1 && !start.dist && Math.abs(dx) > 50) show(state.index + (dx < 0 ? 1 : -1));
      if (state.scale === 1) { state.x = 0; state.y = 0; apply(); }
      start = null;
    });
    img.addEventListener("dblclick", function () {
      state.scale = state.scale > 1 ? 1 : 2.5;
      if (state.scale === 1) { state.x = 0; state.y = 0; }
      apply();
    });
  }

  // The review form shows a reason only where it applies (the server ignores the rest anyway).
  function toggleFields(form) {
    form.querySelectorAll("[data-verdict-of]").forEach(function (box) {
      var id = box.getAttribute("data-verdict-of");
      var chosen = form.querySelector("input[name='verdict-" + id + "']:checked");
      var error = form.querySelector("#m" + id + ".has-error");
      box.hidden = !(error || (chosen && chosen.value === "fix"));
    });
    var decision = form.querySelector("input[name='decision']:checked");
    form.querySelectorAll("[data-decision]").forEach(function (box) {
      box.hidden = !(box.classList.contains("has-error") ||
        (decision && decision.value === box.getAttribute("data-decision")));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireViewer();
    var form = document.getElementById("decision-form");
    if (!form) return;
    toggleFields(form);
    form.addEventListener("change", function () { toggleFields(form); });
  });
})();
