// The same minimal login with our package (for reference; its size is measured on the package files).
import { GenesysAuth } from 'genesys-auth';

const auth = GenesysAuth.create({ region: 'mypurecloud.ie', clientId: 'client-id', redirectUri: 'http://localhost:3000/' });
export const login = async () => (await auth).login({});
export const callback = async () => { const a = await auth; await a.handleRedirectCallback(); return a.accessToken(); };
