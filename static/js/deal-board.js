// The deal board: move cards between stages by dragging them, or by keyboard (focus a card,
// Space or Enter to pick it up, arrows to choose the stage and the place, Space or Enter to
// drop, Escape to put it back). Each drop posts {stage_id, before_id} to the move URL; a
// refused move puts the card back and says why in the live region.
(function () {
  "use strict";
  const board = document.querySelector("[data-deal-board]");
  if (!board || board.hasAttribute("data-readonly")) return;
  const status = document.getElementById("board-status");
  const moveUrlPattern = board.dataset.moveUrl;
  let headers = {};
  try {
    headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  } catch (e) {
    headers = {};
  }

  const columns = () => Array.from(board.querySelectorAll(".deal-cards"));
  const say = (text) => {
    if (status) status.textContent = text;
  };
  const stageName = (list) => list.closest(".deal-column").dataset.stageName;
  const title = (card) => card.querySelector(".deal-card-title").textContent.trim();

  function recount() {
    for (const list of columns()) {
      const count = list.closest(".deal-column").querySelector("[data-count]");
      if (count) count.textContent = String(list.querySelectorAll(".deal-card").length);
    }
  }

  function placeOf(card) {
    return { list: card.parentElement, next: card.nextElementSibling };
  }

  function restore(card, place) {
    place.list.insertBefore(card, place.next);
    recount();
  }

  async function save(card, from) {
    const list = card.parentElement;
    const next = card.nextElementSibling;
    if (list === from.list && next === from.next) return;
    const body = new URLSearchParams({ stage_id: list.dataset.stageId });
    if (next && next.dataset.dealId) body.set("before_id", next.dataset.dealId);
    const url = moveUrlPattern.replace("/0/move/", "/" + card.dataset.dealId + "/move/");
    card.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: Object.assign({ "Content-Type": "application/x-www-form-urlencoded" }, headers),
        body: body,
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || "The move was refused.");
      say(title(card) + " moved to " + stageName(list) + ".");
      card.dataset.moved = "true";
    } catch (error) {
      restore(card, from);
      say(error.message);
    } finally {
      card.removeAttribute("aria-busy");
      recount();
    }
  }

  // --- mouse and touch-pad: native drag and drop ------------------------------------------
  let dragged = null;
  let dragFrom = null;

  board.addEventListener("dragstart", (event) => {
    const card = event.target.closest(".deal-card");
    if (!card) return;
    dragged = card;
    dragFrom = placeOf(card);
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.dealId);
  });

  board.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("is-dragging");
    for (const list of columns()) list.classList.remove("is-over");
  });

  function cardAfter(list, y) {
    const cards = Array.from(list.querySelectorAll(".deal-card:not(.is-dragging)"));
    return cards.find((c) => {
      const box = c.getBoundingClientRect();
      return y < box.top + box.height / 2;
    });
  }

  board.addEventListener("dragover", (event) => {
    const column = event.target.closest(".deal-column");
    if (!dragged || !column) return;
    event.preventDefault();
    const list = column.querySelector(".deal-cards");
    for (const l of columns()) l.classList.toggle("is-over", l === list);
    const after = cardAfter(list, event.clientY);
    if (after) list.insertBefore(dragged, after);
    else list.appendChild(dragged);
  });

  board.addEventListener("drop", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const card = dragged;
    const from = dragFrom;
    dragged = null;
    for (const list of columns()) list.classList.remove("is-over");
    card.classList.remove("is-dragging");
    save(card, from);
  });

  // --- keyboard ---------------------------------------------------------------------------
  let grabbed = null;
  let grabFrom = null;
  let moving = false; // a keyboard move re-inserts the focused card: not a focus change

  function pickUp(card) {
    grabbed = card;
    grabFrom = placeOf(card);
    card.classList.add("is-grabbed");
    card.setAttribute("aria-grabbed", "true");
    say(title(card) + " picked up in " + stageName(card.parentElement) +
      ". Left and right arrows choose the stage, Space drops, Escape cancels.");
  }

  function letGo(card) {
    card.classList.remove("is-grabbed");
    card.removeAttribute("aria-grabbed");
    grabbed = null;
  }

  board.addEventListener("keydown", (event) => {
    const card = event.target.closest(".deal-card");
    if (!card) return;
    const key = event.key;
    if (!grabbed) {
      if (key === " " || key === "Spacebar") {
        event.preventDefault();
        pickUp(card);
      } else if (key === "Enter") {
        card.querySelector(".deal-card-title").click();
      }
      return;
    }
    if (card !== grabbed) return;
    moving = true;
    const lists = columns();
    const index = lists.indexOf(card.parentElement);
    if (key === "ArrowRight" || key === "ArrowLeft") {
      event.preventDefault();
      const target = lists[index + (key === "ArrowRight" ? 1 : -1)];
      if (target) {
        target.appendChild(card);
        say("In " + stageName(target) + ".");
      }
    } else if (key === "ArrowUp" && card.previousElementSibling) {
      event.preventDefault();
      card.parentElement.insertBefore(card, card.previousElementSibling);
    } else if (key === "ArrowDown" && card.nextElementSibling) {
      event.preventDefault();
      card.parentElement.insertBefore(card.nextElementSibling, card);
    } else if (key === " " || key === "Spacebar" || key === "Enter") {
      event.preventDefault();
      const from = grabFrom;
      letGo(card);
      save(card, from);
    } else if (key === "Escape") {
      event.preventDefault();
      restore(card, grabFrom);
      letGo(card);
      say("Move cancelled.");
    } else {
      moving = false;
      return;
    }
    recount();
    card.focus();
    moving = false;
  });

  board.addEventListener("focusout", (event) => {
    // Focus leaving a picked-up card (Tab) cancels the move, as Escape does.
    if (moving) return;
    if (grabbed && event.target === grabbed && !board.contains(event.relatedTarget)) {
      restore(grabbed, grabFrom);
      letGo(event.target);
    }
  });
})();
