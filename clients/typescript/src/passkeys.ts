// The browser's side of a passkey ceremony: authql's options (WebAuthn's
// JSON form) into `navigator.credentials`, and the credential back into
// JSON. Uses `PublicKeyCredential.parseCreationOptionsFromJSON` and
// `credential.toJSON()` where the browser has them, and the same mapping
// (base64url for the binary members) where it does not.

/** What the client needs of `navigator.credentials`. */
export interface CredentialsLike {
  create(options: { publicKey: unknown }): Promise<unknown>;
  get(options: { publicKey: unknown }): Promise<unknown>;
}

type Json = Record<string, unknown>;

interface PublicKeyCredentialStatics {
  parseCreationOptionsFromJSON?: (options: Json) => unknown;
  parseRequestOptionsFromJSON?: (options: Json) => unknown;
}

/** The browser's `navigator.credentials`, or an error saying there is none. */
export function browserCredentials(): CredentialsLike {
  const credentials = (globalThis as { navigator?: { credentials?: CredentialsLike } }).navigator?.credentials;
  if (!credentials || typeof (globalThis as { PublicKeyCredential?: unknown }).PublicKeyCredential === "undefined") {
    throw new Error("passkeys need a browser with WebAuthn (navigator.credentials), or pass `credentials`");
  }
  return credentials;
}

function statics(): PublicKeyCredentialStatics {
  return ((globalThis as unknown as { PublicKeyCredential?: PublicKeyCredentialStatics }).PublicKeyCredential ??
    {}) as PublicKeyCredentialStatics;
}

/** `PublicKeyCredentialCreationOptionsJSON` as `navigator.credentials.create` takes it. */
export function creationOptions(options: Json): unknown {
  const parse = statics().parseCreationOptionsFromJSON;
  if (parse) return parse(options);
  const user = options.user as Json;
  return {
    ...options,
    challenge: fromBase64url(options.challenge as string),
    user: { ...user, id: fromBase64url(user.id as string) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
}

/** `PublicKeyCredentialRequestOptionsJSON` as `navigator.credentials.get` takes it. */
export function requestOptions(options: Json): unknown {
  const parse = statics().parseRequestOptionsFromJSON;
  if (parse) return parse(options);
  return {
    ...options,
    challenge: fromBase64url(options.challenge as string),
    allowCredentials: descriptors(options.allowCredentials),
  };
}

function descriptors(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((descriptor: Json) => ({ ...descriptor, id: fromBase64url(descriptor.id as string) }));
}

/** A credential as authql takes it: `credential.toJSON()`. */
export function credentialJson(credential: unknown): Json {
  const value = credential as { toJSON?: () => Json } & Json;
  if (typeof value.toJSON === "function") return value.toJSON();
  const response = value.response as Json;
  const json: Json = {};
  for (const [name, member] of Object.entries(response)) {
    if (member instanceof ArrayBuffer) json[name] = toBase64url(new Uint8Array(member));
  }
  const getTransports = (response as { getTransports?: () => string[] }).getTransports;
  if (typeof getTransports === "function") json.transports = getTransports.call(response);
  return {
    id: value.id,
    rawId: toBase64url(new Uint8Array(value.rawId as ArrayBuffer)),
    type: value.type,
    authenticatorAttachment: value.authenticatorAttachment ?? undefined,
    response: json,
    clientExtensionResults:
      typeof (value as { getClientExtensionResults?: () => Json }).getClientExtensionResults === "function"
        ? (value as unknown as { getClientExtensionResults: () => Json }).getClientExtensionResults()
        : {},
  };
}

function fromBase64url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
