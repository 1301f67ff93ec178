/**
 * Framing of an ID photo with cropperjs (site/vendor/cropperjs, loaded by a <script> before the page's module: global
 * `Cropper`). The frame keeps the 35:45 shape of an ID photo; the crop sent to the API is in pixels of the upright
 * original (after its EXIF orientation), which is what `getData(true)` gives once cropperjs has read the orientation.
 *
 * The file is read as a data: URL so that cropperjs reads its EXIF orientation without a request (a blob: URL would
 * need an XMLHttpRequest that the site's connect-src does not allow).
 *
 * Keyboard: the framing area takes the focus; the arrows move the frame, + and - enlarge or shrink it, 0 centres it
 * again. The same actions are buttons under the photo.
 */
import { PHOTO_ASPECT_TOLERANCE, PHOTO_SIZE } from "./constants.js";

// The ID photo's size and the crop's tolerance: chalicelib/imaging/photo.py, through js/constants.js.
export const ASPECT = 35 / 45;
export const MIN_CROP = PHOTO_SIZE;
const ASPECT_TOLERANCE = PHOTO_ASPECT_TOLERANCE;
const STEP = 10; // screen pixels per arrow key (1 with Shift)
const RESIZE = 0.1;

export class FramingError extends Error {}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("load", () => resolve(reader.result));
    reader.addEventListener("error", () => reject(new FramingError(
      "Le fichier n'a pas pu être lu. Choisissez-le à nouveau.")));
    reader.readAsDataURL(file);
  });
}

function decodable(url) {
  return new Promise((resolve, reject) => {
    const probe = new Image();
    probe.addEventListener("load", () => resolve());
    probe.addEventListener("error", () => reject(new FramingError(
      "La photo ne peut pas être affichée\u00a0: le fichier est endommagé ou n'est pas une image JPEG.")));
    probe.src = url;
  });
}

export class Framing {
  /**
   * `area`: the element that receives the photo (focusable, see the page); `onChange(crop)` is told the frame (in
   * pixels of the photo) after each change, for the page to say it.
   */
  constructor(area, { alt, onChange = () => {} }) {
    this.area = area;
    this.alt = alt;
    this.onChange = onChange;
    this.cropper = null;
    this.size = null;
    this.touched = false; // the agent moved or resized the frame: their frame is sent, else the assistant frames
    area.addEventListener("keydown", (event) => this.onKey(event));
    let pending = null;
    window.addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(() => this.relayout(), 150);
    });
  }

  /** The window changed size: fit the photo and its frame to the area again (the frame keeps its place). */
  relayout() {
    if (!this.cropper || !this.cropper.ready || !this.area.offsetWidth || !this.area.offsetHeight) return;
    this.cropper.resize(); // cropperjs' handler of `responsive`: scales the canvas and the frame together
  }

  /** Show `file` with the default frame (centred, as large as the photo allows); resolves once it can be framed. */
  async load(file) {
    this.destroy();
    this.touched = false;
    const url = await readAsDataUrl(file);
    await decodable(url);
    const image = document.createElement("img");
    image.alt = this.alt;
    image.className = "app-cropper__image";
    image.src = url;
    this.area.replaceChildren(image);
    await new Promise((resolve) => {
      this.cropper = new window.Cropper(image, {
        viewMode: 1, // the frame stays inside the photo
        aspectRatio: ASPECT,
        autoCropArea: 0.9,
        dragMode: "none",
        movable: false,
        zoomable: false,
        rotatable: true, // needed by checkOrientation (the orientation is applied as a rotation)
        scalable: true,
        checkOrientation: true,
        checkCrossOrigin: false,
        toggleDragModeOnDblclick: false,
        background: true,
        // cropperjs' own resize handler shrinks the frame to nothing when the window is resized while the photo is
        // hidden (its container measures 0): the page relays the resizes only while the photo is shown.
        responsive: false,
        ready: () => {
          // cropperjs shows the photo twice (under the frame, and dimmed around it): one description is enough.
          this.area.querySelectorAll("img").forEach((img) => { img.alt = this.alt; });
          this.area.querySelectorAll(".cropper-view-box img").forEach((img) => { img.alt = ""; });
          const canvas = this.cropper.getCanvasData();
          this.size = { width: Math.round(canvas.naturalWidth), height: Math.round(canvas.naturalHeight) };
          this.enforceMinimum();
          resolve();
        },
        cropend: () => {
          this.touched = true;
          this.enforceMinimum();
          this.changed();
        },
      });
    });
    this.changed();
  }

  /** The photo (upright) is too small for an ID photo: no frame can be large enough. */
  get tooSmall() {
    return !this.size || this.size.width < MIN_CROP.width || this.size.height < MIN_CROP.height;
  }

  /** The frame is never smaller than 413 x 531 pixels of the photo (no enlargement at print): a frame made smaller
   * by the mouse or the keyboard grows back to that size around its centre. */
  enforceMinimum() {
    if (!this.cropper || this.tooSmall) return;
    const data = this.cropper.getData();
    if (data.width >= MIN_CROP.width + 0.5 && data.height >= MIN_CROP.height + 0.5) return;
    const { width: imageWidth, height: imageHeight } = this.size;
    let width = Math.min(imageWidth, MIN_CROP.width + 2);
    let height = width / ASPECT;
    if (height > imageHeight) {
      height = imageHeight;
      width = height * ASPECT;
    }
    const centreX = data.x + data.width / 2;
    const centreY = data.y + data.height / 2;
    this.cropper.setData({
      x: Math.max(0, Math.min(centreX - width / 2, imageWidth - width)),
      y: Math.max(0, Math.min(centreY - height / 2, imageHeight - height)),
      width,
      height,
    });
  }

  changed() {
    const crop = this.crop();
    if (crop) this.onChange(crop);
  }

  /** The frame in whole pixels of the upright photo, inside it and of the ID photo's shape; null before loading. */
  crop() {
    if (!this.cropper || !this.size) return null;
    const data = this.cropper.getData(true);
    const { width: imageWidth, height: imageHeight } = this.size;
    let x = Math.max(0, Math.min(data.x, imageWidth - 1));
    let y = Math.max(0, Math.min(data.y, imageHeight - 1));
    let width = Math.min(data.width, imageWidth - x);
    let height = Math.min(data.height, imageHeight - y);
    if (Math.abs(width / height / ASPECT - 1) > ASPECT_TOLERANCE / 2) {
      // Rounding at an edge of the photo changed the shape: take the largest frame of the right shape inside.
      if (width / height > ASPECT) width = Math.round(height * ASPECT);
      else height = Math.round(width / ASPECT);
    }
    x = Math.min(x, imageWidth - width);
    y = Math.min(y, imageHeight - height);
    return { x, y, width, height };
  }

  /** Put the frame on `crop` (pixels of the upright photo), e.g. the framing the photo assistant proposes;
   * `byAgent: false` when the page shows the framing the photo was made with (it stays "not touched"). */
  setCrop(crop, { byAgent = true } = {}) {
    if (!this.cropper || !crop) return;
    if (byAgent) this.touched = true;
    this.cropper.setData({ x: crop.x, y: crop.y, width: crop.width, height: crop.height });
    this.enforceMinimum();
    this.changed();
  }

  move(dx, dy) {
    if (!this.cropper) return;
    this.touched = true;
    const box = this.cropper.getCropBoxData();
    this.cropper.setCropBoxData({ left: box.left + dx, top: box.top + dy });
    this.changed();
  }

  /** Enlarge (factor > 1) or shrink the frame around its centre. */
  resize(factor) {
    if (!this.cropper) return;
    this.touched = true;
    const box = this.cropper.getCropBoxData();
    const width = box.width * factor;
    const height = width / ASPECT;
    this.cropper.setCropBoxData({
      left: box.left - (width - box.width) / 2, top: box.top - (height - box.height) / 2, width,
    });
    this.enforceMinimum();
    this.changed();
  }

  reset() {
    if (!this.cropper) return;
    this.touched = true;
    this.cropper.reset();
    this.enforceMinimum();
    this.changed();
  }

  onKey(event) {
    if (!this.cropper || event.altKey || event.ctrlKey || event.metaKey) return;
    const step = event.shiftKey ? 1 : STEP;
    const actions = {
      ArrowLeft: () => this.move(-step, 0),
      ArrowRight: () => this.move(step, 0),
      ArrowUp: () => this.move(0, -step),
      ArrowDown: () => this.move(0, step),
      "+": () => this.resize(1 + RESIZE),
      "=": () => this.resize(1 + RESIZE),
      "-": () => this.resize(1 / (1 + RESIZE)),
      0: () => this.reset(),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  }

  destroy() {
    if (this.cropper) this.cropper.destroy();
    this.cropper = null;
    this.size = null;
    this.area.replaceChildren();
  }
}
