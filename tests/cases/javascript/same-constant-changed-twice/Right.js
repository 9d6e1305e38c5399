const retries = 1;
export default retries;
