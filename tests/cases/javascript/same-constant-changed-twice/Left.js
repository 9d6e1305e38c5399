const retries = 5;
export default retries;
