// Where `npm run dev`'s local chain listens, and the CHAIN_RPC_URL the wallet worker gets when .env names none.
// LOCAL_CHAIN_PORT overrides it (tests run a second stack beside a running one).
export const LOCAL_CHAIN_PORT = Number(process.env.LOCAL_CHAIN_PORT || 54570);
export const localChainRpcUrl = (): string => `http://127.0.0.1:${LOCAL_CHAIN_PORT}`;
