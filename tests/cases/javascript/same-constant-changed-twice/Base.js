const retries = 3;
export default retries;
