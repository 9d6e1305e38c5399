<<<<<<< Left
const retries = 5;
=======
const retries = 1;
>>>>>>> Right
export default retries;
