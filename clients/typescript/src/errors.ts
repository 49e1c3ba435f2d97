/** An error authql answered with, carrying its stable `extensions.code`. */
export class AuthqlError extends Error {
  /** authql's code: `INVALID_CREDENTIALS`, `TOO_MANY_REQUESTS`, `UNAUTHENTICATED`, … */
  readonly code: string;
  /** For `UNAUTHENTICATED`: `missing`, `malformed`, `invalid`, `expired` or `revoked`; for `INVALID_PASSKEY`: why the answer was refused. */
  readonly reason?: string;
  /** For `TOO_MANY_REQUESTS` and `SERVER_BUSY`: seconds to wait. */
  readonly retryAfter?: number;
  /** For `BAD_USER_INPUT` and others: each offending input field and what is wrong with it. */
  readonly fields?: Record<string, string>;
  /** The HTTP status of the response. */
  readonly status: number;

  constructor(message: string, code: string, status: number, extensions: Record<string, unknown> = {}) {
    super(message);
    this.name = "AuthqlError";
    this.code = code;
    this.status = status;
    if (typeof extensions.reason === "string") this.reason = extensions.reason;
    if (typeof extensions.retryAfter === "number") this.retryAfter = extensions.retryAfter;
    if (extensions.fields && typeof extensions.fields === "object") {
      this.fields = extensions.fields as Record<string, string>;
    }
  }

  /** Whether this is an expired access token: refresh and retry. */
  get isExpired(): boolean {
    return this.code === "UNAUTHENTICATED" && this.reason === "expired";
  }
}

/**
 * The first factor was right, and the account has two-step sign-in: no
 * session was opened. Pass `mfaToken` with a code to `verifySecondFactor`.
 */
export class SecondFactorRequiredError extends AuthqlError {
  /** Opaque, single use, minutes long. */
  readonly mfaToken: string;
  /** What may follow: `TOTP`, `RECOVERY_CODE`, `PASSKEY`. */
  readonly factors: string[];
  /** When `mfaToken` expires (ISO 8601). */
  readonly expiresAt: string;

  constructor(message: string, status: number, extensions: Record<string, unknown>) {
    super(message, "SECOND_FACTOR_REQUIRED", status, extensions);
    this.name = "SecondFactorRequiredError";
    this.mfaToken = typeof extensions.mfaToken === "string" ? extensions.mfaToken : "";
    this.factors = Array.isArray(extensions.factors) ? extensions.factors.map(String) : [];
    this.expiresAt = typeof extensions.expiresAt === "string" ? extensions.expiresAt : "";
  }
}

/** The server could not be reached, or did not answer with GraphQL. */
export class NetworkError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "NetworkError";
  }
}
