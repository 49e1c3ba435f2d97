// The operations the client sends: the same as `operations.graphql`, from
// which GraphQL Code Generator types them (a test checks they agree).

const FRAGMENTS = `
fragment SessionFields on AuthPayload {
  accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt user { ...UserFields }
}
fragment UserFields on User { id name email emailVerified roles createdAt }`;

export const REGISTER = `mutation Register($input: RegisterInput!) { register(input: $input) { ...SessionFields } } ${FRAGMENTS}`;
export const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { ...SessionFields } } ${FRAGMENTS}`;
export const REFRESH = `mutation Refresh($refreshToken: String) { refresh(refreshToken: $refreshToken) { ...SessionFields } } ${FRAGMENTS}`;
export const LOGOUT = `mutation Logout($scope: LogoutScope!, $refreshToken: String) { logout(scope: $scope, refreshToken: $refreshToken) { revokedSessions } }`;
export const ME = `query Me { me { ...UserFields } } fragment UserFields on User { id name email emailVerified roles createdAt }`;
export const SIGN_IN_PROVIDERS = `query SignInProviders { signInProviders { id name } }`;
export const START_PROVIDER_SIGN_IN = `mutation StartProviderSignIn($input: StartProviderInput!) { startProviderSignIn(input: $input) { authorizationUrl expiresAt } }`;
export const COMPLETE_PROVIDER_SIGN_IN = `mutation CompleteProviderSignIn($input: CompleteProviderInput!) { completeProviderSignIn(input: $input) { ...SessionFields } } ${FRAGMENTS}`;
export const VERIFY_SECOND_FACTOR = `mutation VerifySecondFactor($input: VerifySecondFactorInput!) { verifySecondFactor(input: $input) { ...SessionFields } } ${FRAGMENTS}`;
export const START_PASSKEY_REGISTRATION = `mutation StartPasskeyRegistration { startPasskeyRegistration { challengeId options expiresAt } }`;
export const FINISH_PASSKEY_REGISTRATION = `mutation FinishPasskeyRegistration($input: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $input) { ...PasskeyFields } } fragment PasskeyFields on Passkey { id name createdAt lastUsedAt backedUp }`;
export const START_PASSKEY_SIGN_IN = `mutation StartPasskeySignIn($input: StartPasskeySignInInput) { startPasskeySignIn(input: $input) { challengeId options expiresAt } }`;
export const FINISH_PASSKEY_SIGN_IN = `mutation FinishPasskeySignIn($input: PasskeyCredentialInput!) { finishPasskeySignIn(input: $input) { ...SessionFields } } ${FRAGMENTS}`;
export const START_PASSKEY_SIGN_UP = `mutation StartPasskeySignUp($input: StartPasskeySignUpInput!) { startPasskeySignUp(input: $input) { challengeId options expiresAt } }`;
export const FINISH_PASSKEY_SIGN_UP = `mutation FinishPasskeySignUp($input: PasskeyCredentialInput!) { finishPasskeySignUp(input: $input) { ...SessionFields } } ${FRAGMENTS}`;
