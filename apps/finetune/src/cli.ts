console.log("clipwise");
