// "Accès pour les logiciels": a commune's API clients (OAuth 2.0 client credentials) — list (GET /api-clients),
// create (POST /api-clients: the secret is shown once, here), revoke (DELETE /api-clients/{client_id}); each client's
// webhooks and their delivery log. The panels are logiciels-acces.js's, shared with the card maker's « Outils de
// l'État » (fabricant-logiciels.js).
import { api } from "../api.js";
import { API_SCOPES } from "../constants.js";
import { openSpace, showLoadError } from "../espace.js";
import { manageClients } from "./logiciels-acces.js";

const clients = manageClients({
  scopes: API_SCOPES,  // the four: a commune's software may read and write
  list: () => api.get("/api-clients"),
  create: (name, scopes) => api.post("/api-clients", { name, scopes }),
  revokePath: (client) => `/api-clients/${encodeURIComponent(client.client_id)}`,
  revokedMessage: (client) => `Le logiciel « ${client.name} » n'a plus accès aux données de la commune.`,
});

openSpace(["commune"]).then(() => clients.show(), showLoadError);
