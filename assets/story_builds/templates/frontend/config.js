// Where the backend's API lives: "" when the backend serves this folder, else its URL (set at deploy time).
window.API_BASE = window.API_BASE || "";
