export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /**
   * Implement the DateTime<Utc> scalar
   *
   * The input/output is a string in RFC3339 format.
   */
  DateTime: { input: string; output: string; }
  /** A scalar that can represent any JSON value. */
  JSON: { input: Record<string, unknown>; output: Record<string, unknown>; }
};

/** What happened. */
export type AuditEventKind =
  /** The new address was confirmed and replaced the old one. */
  | 'EMAIL_CHANGED'
  /** A new address was given; a confirmation link went to it. */
  | 'EMAIL_CHANGE_REQUESTED'
  /** The address was confirmed from a verification link. */
  | 'EMAIL_VERIFIED'
  /**
   * An account at a sign-in provider was linked (the detail names the
   * provider, with `:claimed` when an unconfirmed account was taken
   * back by the owner of its address).
   */
  | 'IDENTITY_LINKED'
  /** An account at a sign-in provider was unlinked. */
  | 'IDENTITY_UNLINKED'
  /**
   * A sign-in refused: a wrong password, an unknown address, or a
   * disabled account.
   */
  | 'LOGIN_FAILED'
  /**
   * A sign-in: with the right password, or through a provider (the
   * detail names it).
   */
  | 'LOGIN_SUCCEEDED'
  /** A sign-in or other credential call refused by a throttle. */
  | 'LOGIN_THROTTLED'
  /** A sign-out. */
  | 'LOGOUT'
  /**
   * A mail was not sent: too many to this address or from this IP within
   * an hour.
   */
  | 'MAIL_LIMITED'
  /** A passkey was added to the account. */
  | 'PASSKEY_ADDED'
  /** A passkey was removed (by the user, or by an admin). */
  | 'PASSKEY_REMOVED'
  /** A passkey's answer was refused (the detail says why). */
  | 'PASSKEY_SIGN_IN_FAILED'
  /** The password was changed. */
  | 'PASSWORD_CHANGED'
  /** `changePassword` with a wrong current password. */
  | 'PASSWORD_CHANGE_FAILED'
  /** The password was set from a reset link; every session ended. */
  | 'PASSWORD_RESET'
  /** A password reset link was asked for (whether or not one was sent). */
  | 'PASSWORD_RESET_REQUESTED'
  /** A provider's answer was refused (`provider:why`). */
  | 'PROVIDER_SIGN_IN_FAILED'
  /** A refresh token was exchanged for a new pair. */
  | 'REFRESHED'
  /** A refresh token was refused (expired, revoked, forged). */
  | 'REFRESH_REJECTED'
  /** A used refresh token came back: the session was ended. */
  | 'REFRESH_TOKEN_REUSED'
  /** An account was created (by `register`, or by the operator CLI). */
  | 'REGISTERED'
  /** An admin or the operator set the user's roles. */
  | 'ROLES_CHANGED'
  /** Two-step sign-in was turned on, or its recovery codes renewed. */
  | 'SECOND_FACTOR_ADDED'
  /** A wrong second-factor code. */
  | 'SECOND_FACTOR_FAILED'
  /** A second factor was removed (by the user, or reset by an admin). */
  | 'SECOND_FACTOR_REMOVED'
  /** A first factor was proven; the second was asked for. */
  | 'SECOND_FACTOR_REQUIRED'
  /**
   * A session was ended by the user from another session, or by an
   * admin.
   */
  | 'SESSION_REVOKED'
  /** An admin or the operator disabled the account. */
  | 'USER_DISABLED'
  /** An admin or the operator enabled the account again. */
  | 'USER_ENABLED';

/** The new address and the current password, for `changeEmail`. */
export type ChangeEmailInput = {
  /**
   * The address to move the account to; it takes effect when the link
   * mailed to it is followed.
   */
  newEmail: Scalars['String']['input'];
  /** The account's current password. */
  password: Scalars['String']['input'];
};

/** The current and the new password, for `changePassword`. */
export type ChangePasswordInput = {
  /** The password the account has now. */
  currentPassword: Scalars['String']['input'];
  /** The new password, held to the same policy as at registration. */
  newPassword: Scalars['String']['input'];
};

/** Completes a flow through a provider. */
export type CompleteProviderInput = {
  /** The `code` the browser came back with (good once, for 60 seconds). */
  code: Scalars['String']['input'];
  /** The PKCE verifier whose challenge started the flow. */
  codeVerifier: Scalars['String']['input'];
};

/** Confirms an authenticator app. */
export type ConfirmTotpInput = {
  /** The app's current 6-digit code. */
  code: Scalars['String']['input'];
  /** From `enrollTotp`. */
  factorId: Scalars['ID']['input'];
};

/** The answer to `startPasskeyRegistration`. */
export type FinishPasskeyRegistrationInput = {
  /** From `startPasskeyRegistration`. */
  challengeId: Scalars['ID']['input'];
  /** The browser's `credential.toJSON()` of `navigator.credentials.create`. */
  credential: Scalars['JSON']['input'];
  /**
   * What to call it ("YubiKey", "Work laptop"): 1 to 64 characters.
   * Default: "Passkey".
   */
  name?: InputMaybe<Scalars['String']['input']>;
};

/** Credentials for `login`. */
export type LoginInput = {
  /** The e-mail address, matched trimmed and case-insensitively. */
  email: Scalars['String']['input'];
  /** The password. */
  password: Scalars['String']['input'];
};

/** Which sessions `logout` ends. */
export type LogoutScope =
  /** Every session of the user, this one included. */
  | 'GLOBAL'
  /** This session only. */
  | 'LOCAL'
  /** Every other session of the user; this one stays signed in. */
  | 'OTHERS';

/** The answer to a passkey sign-in or sign-up ceremony. */
export type PasskeyCredentialInput = {
  /** From the matching `start…` field. */
  challengeId: Scalars['ID']['input'];
  /** The browser's `credential.toJSON()`. */
  credential: Scalars['JSON']['input'];
};

/** A new account's details. */
export type RegisterInput = {
  /**
   * E-mail address, at most 255 characters, stored in one spelling per
   * mailbox: the domain as its A-label (IDN), the local part lower-cased
   * and NFKC-normalised, unneeded quotes dropped. A local part that needs
   * quotes or has characters beyond ASCII is refused.
   */
  email: Scalars['String']['input'];
  /**
   * Display name, 1 to 255 characters after trimming, at least one of them
   * visible; characters that hide or reorder text (bidi controls,
   * zero-width characters) and more than 4 accents on one letter are
   * refused.
   */
  name: Scalars['String']['input'];
  /**
   * Password, 8 to 128 characters, hard to guess: a strength estimator
   * (zxcvbn) that knows the name and e-mail must score it at least
   * `AUTHQL_PASSWORD_MIN_SCORE` (3 of 4 by default).
   */
  password: Scalars['String']['input'];
  /** Must equal `password`. */
  passwordConfirmation: Scalars['String']['input'];
};

/** A reset link's token and the new password, for `resetPassword`. */
export type ResetPasswordInput = {
  /** The new password, held to the same policy as at registration. */
  newPassword: Scalars['String']['input'];
  /** The token from the reset link (the `{token}` of `AUTHQL_RESET_URL`). */
  token: Scalars['String']['input'];
};

/**
 * How a passkey sign-in starts: with neither field a usernameless sign-in
 * (the authenticator offers the passkeys it holds for this site).
 */
export type StartPasskeySignInInput = {
  /** The account's address: its passkeys are offered. */
  email?: InputMaybe<Scalars['String']['input']>;
  /**
   * From a `SECOND_FACTOR_REQUIRED` error: the passkey is the second
   * step; finish with `verifySecondFactor(input: { mfaToken, passkey })`.
   */
  mfaToken?: InputMaybe<Scalars['String']['input']>;
};

/** A new account with a passkey alone. */
export type StartPasskeySignUpInput = {
  /** E-mail address, as `register`'s; confirmed by mail as usual. */
  email: Scalars['String']['input'];
  /** Display name, as `register`'s. */
  name: Scalars['String']['input'];
};

/** Starts a flow through a provider. */
export type StartProviderInput = {
  /**
   * The S256 PKCE challenge (base64url of SHA-256, 43 characters) of a
   * verifier the frontend keeps until it completes the flow.
   */
  codeChallenge: Scalars['String']['input'];
  /** The provider's id (from `signInProviders`). */
  provider: Scalars['String']['input'];
  /**
   * Where the browser comes back to, with `code` (or `error`) in the
   * query; must be allowed by `AUTHQL_REDIRECT_URLS`.
   */
  redirectTo: Scalars['String']['input'];
};

/** The second step of a sign-in: exactly one of the codes or a passkey. */
export type VerifySecondFactorInput = {
  /** From the `SECOND_FACTOR_REQUIRED` error's `extensions.mfaToken`. */
  mfaToken: Scalars['String']['input'];
  /** A passkey's answer to `startPasskeySignIn(input: { mfaToken })`. */
  passkey?: InputMaybe<PasskeyCredentialInput>;
  /** One of the recovery codes. */
  recoveryCode?: InputMaybe<Scalars['String']['input']>;
  /** The authenticator app's 6-digit code. */
  totpCode?: InputMaybe<Scalars['String']['input']>;
};

export type SessionFieldsFragment = { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken?: string | null, refreshTokenExpiresAt: string, user: { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string } };

export type UserFieldsFragment = { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string };

export type RegisterMutationVariables = Exact<{
  input: RegisterInput;
}>;


export type RegisterMutation = { __typename?: 'Mutation', register: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken?: string | null, refreshTokenExpiresAt: string, user: { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string } } };

export type LoginMutationVariables = Exact<{
  input: LoginInput;
}>;


export type LoginMutation = { __typename?: 'Mutation', login: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken?: string | null, refreshTokenExpiresAt: string, user: { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string } } };

export type RefreshMutationVariables = Exact<{
  refreshToken?: InputMaybe<Scalars['String']['input']>;
}>;


export type RefreshMutation = { __typename?: 'Mutation', refresh: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken?: string | null, refreshTokenExpiresAt: string, user: { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string } } };

export type LogoutMutationVariables = Exact<{
  scope: LogoutScope;
  refreshToken?: InputMaybe<Scalars['String']['input']>;
}>;


export type LogoutMutation = { __typename?: 'Mutation', logout: { __typename?: 'LogoutPayload', revokedSessions: number } };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { __typename?: 'Query', me: { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string } };

export type VerifySecondFactorMutationVariables = Exact<{
  input: VerifySecondFactorInput;
}>;


export type VerifySecondFactorMutation = { __typename?: 'Mutation', verifySecondFactor: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken?: string | null, refreshTokenExpiresAt: string, user: { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string } } };

export type SignInProvidersQueryVariables = Exact<{ [key: string]: never; }>;


export type SignInProvidersQuery = { __typename?: 'Query', signInProviders: Array<{ __typename?: 'SignInProvider', id: string, name: string }> };

export type StartProviderSignInMutationVariables = Exact<{
  input: StartProviderInput;
}>;


export type StartProviderSignInMutation = { __typename?: 'Mutation', startProviderSignIn: { __typename?: 'ProviderRedirectPayload', authorizationUrl: string, expiresAt: string } };

export type CompleteProviderSignInMutationVariables = Exact<{
  input: CompleteProviderInput;
}>;


export type CompleteProviderSignInMutation = { __typename?: 'Mutation', completeProviderSignIn: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken?: string | null, refreshTokenExpiresAt: string, user: { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string } } };

export type PasskeyFieldsFragment = { __typename?: 'Passkey', id: string, name: string, createdAt: string, lastUsedAt?: string | null, backedUp: boolean };

export type StartPasskeyRegistrationMutationVariables = Exact<{ [key: string]: never; }>;


export type StartPasskeyRegistrationMutation = { __typename?: 'Mutation', startPasskeyRegistration: { __typename?: 'PasskeyChallengePayload', challengeId: string, options: Record<string, unknown>, expiresAt: string } };

export type FinishPasskeyRegistrationMutationVariables = Exact<{
  input: FinishPasskeyRegistrationInput;
}>;


export type FinishPasskeyRegistrationMutation = { __typename?: 'Mutation', finishPasskeyRegistration: { __typename?: 'Passkey', id: string, name: string, createdAt: string, lastUsedAt?: string | null, backedUp: boolean } };

export type StartPasskeySignInMutationVariables = Exact<{
  input?: InputMaybe<StartPasskeySignInInput>;
}>;


export type StartPasskeySignInMutation = { __typename?: 'Mutation', startPasskeySignIn: { __typename?: 'PasskeyChallengePayload', challengeId: string, options: Record<string, unknown>, expiresAt: string } };

export type FinishPasskeySignInMutationVariables = Exact<{
  input: PasskeyCredentialInput;
}>;


export type FinishPasskeySignInMutation = { __typename?: 'Mutation', finishPasskeySignIn: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken?: string | null, refreshTokenExpiresAt: string, user: { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string } } };

export type StartPasskeySignUpMutationVariables = Exact<{
  input: StartPasskeySignUpInput;
}>;


export type StartPasskeySignUpMutation = { __typename?: 'Mutation', startPasskeySignUp: { __typename?: 'PasskeyChallengePayload', challengeId: string, options: Record<string, unknown>, expiresAt: string } };

export type FinishPasskeySignUpMutationVariables = Exact<{
  input: PasskeyCredentialInput;
}>;


export type FinishPasskeySignUpMutation = { __typename?: 'Mutation', finishPasskeySignUp: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken?: string | null, refreshTokenExpiresAt: string, user: { __typename?: 'User', id: string, name: string, email: string, emailVerified: boolean, roles: Array<string>, createdAt: string } } };
